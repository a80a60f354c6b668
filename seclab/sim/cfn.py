"""Parse CloudFormation templates safely.

Why: moto parses templates with `yaml.load(..., Loader=yaml.Loader)`, which executes `!!python/...` tags inside the
simulator process (style-and-reliability B.4: a template created a directory on the host). The gateway parses every
template with a SafeLoader subclass first and refuses one that is not plain data; `fidelity` also swaps moto's
loader for this one, so a template that reaches moto another way (TemplateURL) is parsed safely too.

CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) become the long form ({"Ref": ...}, {"Fn::GetAtt": [...]}),
the same structure moto's own tag constructor produces.
"""

from __future__ import annotations

import json
from typing import Any

import yaml


class TemplateError(ValueError):
    """The template is not safe or not parseable."""


class CfnSafeLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's intrinsic-function tags (and nothing else)."""


def _construct_cfn(loader: CfnSafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CFN_TAGS = (
    "Ref", "Sub", "GetAtt", "Join", "Select", "Split", "FindInMap", "GetAZs", "ImportValue", "Base64", "Cidr",
    "If", "Equals", "And", "Or", "Not", "Condition", "Transform", "Length", "ToJsonString", "ForEach",
)
for _tag in _CFN_TAGS:
    CfnSafeLoader.add_constructor(f"!{_tag}", lambda loader, node, _t=_tag: _construct_cfn(loader, _t, node))


def load_template(text: str) -> Any:
    """The template as data; TemplateError if it uses any tag beyond YAML's plain types and CFN's intrinsics."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.load(text, Loader=CfnSafeLoader)  # noqa: S506 - CfnSafeLoader is a SafeLoader subclass
    except yaml.constructor.ConstructorError as exc:
        raise TemplateError(f"the template uses a tag the simulator does not allow: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"the template is not valid YAML or JSON: {str(exc).splitlines()[0]}") from None


class SafeYamlShim:
    """Stands in for the `yaml` module inside moto's CloudFormation code: every load is a safe load.

    moto calls `yaml.add_multi_constructor("", ...)` (registering a catch-all on the unsafe loaders) and then
    `yaml.load(text, Loader=yaml.Loader)`; the shim ignores the registration and the requested Loader.
    """

    Loader = CfnSafeLoader
    SafeLoader = CfnSafeLoader
    FullLoader = CfnSafeLoader
    UnsafeLoader = CfnSafeLoader

    def __getattr__(self, name: str) -> Any:
        return getattr(yaml, name)

    @staticmethod
    def load(stream: Any, Loader: Any = None) -> Any:  # noqa: N803 - mirrors yaml.load's signature
        return yaml.load(stream, Loader=CfnSafeLoader)  # noqa: S506

    @staticmethod
    def safe_load(stream: Any) -> Any:
        return yaml.load(stream, Loader=CfnSafeLoader)  # noqa: S506

    @staticmethod
    def add_multi_constructor(*_: Any, **__: Any) -> None:
        return None

    @staticmethod
    def add_constructor(*_: Any, **__: Any) -> None:
        return None
