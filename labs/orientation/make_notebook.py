"""Builds orientation.ipynb (the nbgrader source notebook). Run: .venv/bin/python labs/orientation/make_notebook.py"""

from pathlib import Path

from seclab.authoring import code, md, solution, write_notebook

HERE = Path(__file__).resolve().parent

cells = [
    md("""
# Orientation: your first ten minutes in the simulated cloud

You have your **own simulated AWS account** on this machine. Nothing you do here reaches real AWS or costs money.
You build with ordinary `boto3`, exactly as you would on AWS, and seclab's grader reads what you built and tells
you, check by check, what is secure, what is not, why it matters and how to fix it.

In this lab you will:

1. connect and see which identity and account you act as,
2. create a **customer-managed KMS key** (a key whose policy and lifetime you control),
3. create a **private bucket** that encrypts everything with that key.

```mermaid
flowchart LR
  you["You (boto3 in this notebook)"] -->|sts:GetCallerIdentity| sts["STS"]
  you -->|create key + alias| kms{"KMS customer-managed key"}
  you -->|create bucket| s3[("S3 bucket<br/>SSE-KMS, public access blocked")]
  s3 -. encrypts with .-> kms
```

> The grade comes from the simulator's state, computed outside this notebook. Editing the notebook cannot change it.
""", grade_id="intro"),
    md("## Set up\nRun this cell first. It prepares your scenario and prints the names the grader will look for.",
       grade_id="setup-md"),
    code("""
import boto3
from seclab.notebook import Lab

lab = Lab("orientation")
facts = lab.setup()
""", grade_id="setup"),
    md("""
## 1. Connect and see your identity

Before changing anything in a cloud account, confirm **which account and identity** your credentials act as.
Create an STS client and call `get_caller_identity()`; print the `Account` and `Arn`.
""", grade_id="task1-md"),
    solution("""
### BEGIN SOLUTION
sts = boto3.client("sts")
identity = sts.get_caller_identity()
print("Account:", identity["Account"])
print("Arn:    ", identity["Arn"])
### END SOLUTION
""", grade_id="task1"),
    code('lab.check("identity")', grade_id="check1"),
    md("""
## 2. Create a customer-managed KMS key

Create a symmetric KMS key with `kms.create_key(...)` and give it the alias in `facts["key_alias"]` with
`kms.create_alias(...)`. The alias is how the grader (and people) find your key.

Stuck? Run `lab.hint("key")`; each run reveals one more hint.
""", grade_id="task2-md"),
    solution("""
### BEGIN SOLUTION
kms = boto3.client("kms")
key = kms.create_key(Description="Orientation lab key")["KeyMetadata"]
kms.create_alias(AliasName=facts["key_alias"], TargetKeyId=key["KeyId"])
print("Created", key["Arn"], "as", facts["key_alias"])
### END SOLUTION
""", grade_id="task2"),
    code('lab.check("key")', grade_id="check2"),
    md("""
## 3. Create a private bucket that encrypts with your key

1. Create the bucket named `facts["bucket"]`.
2. Set its **default encryption** to SSE-KMS with your key (`put_bucket_encryption`), with bucket keys on.
3. Turn on all four **public access block** settings (`put_public_access_block`).
""", grade_id="task3-md"),
    solution("""
### BEGIN SOLUTION
s3 = boto3.client("s3")
kms = boto3.client("kms")
key_arn = kms.describe_key(KeyId=facts["key_alias"])["KeyMetadata"]["Arn"]
s3.create_bucket(Bucket=facts["bucket"])
s3.put_bucket_encryption(
    Bucket=facts["bucket"],
    ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True,
    }]},
)
s3.put_public_access_block(
    Bucket=facts["bucket"],
    PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                    "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
)
print("Bucket", facts["bucket"], "is private and encrypted with", key_arn)
### END SOLUTION
""", grade_id="task3"),
    code('lab.check("bucket")', grade_id="check3"),
    md("""
## Check your progress

The whole lab, graded from the simulator's state. Then look at a diagram of what you built.
""", grade_id="final-md"),
    code("result = lab.check()\nlab.diagram()", grade_id="final"),
]

if __name__ == "__main__":
    write_notebook(HERE / "orientation.ipynb", cells, "Orientation")
    print("wrote", HERE / "orientation.ipynb")
