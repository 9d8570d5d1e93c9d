"""Specs: OpenAPI documents (3.0 or 3.1, ours or the provider's as downloaded) with their rules tables.

`load_spec` reads a document once per file version and gives a `Spec`: the document as OpenAPI 3.1,
its typed `Rules`, and the `Finding`s about the document itself. Everything else in the project
reads documents through `Spec`'s public methods.
"""

from ._client_rules import ClientProfile, ClientRule, ClientRules, TroubleKind, load_client_rules
from ._findings import Finding
from ._load import (
    SPEC_NAMES,
    generic_rules,
    infer_api,
    iter_spec_files,
    load_all,
    load_spec,
    prefix_for,
    read_rules,
    specs_dir,
    stem,
    token_spec_name,
)
from ._resources import Kind, Lookup
from ._rules import TOKEN_ENDPOINT_ROLE, Rules
from ._spec import HTTP_METHODS, Direction, Operation, Spec, strip_flagged

__all__ = [
    "ClientProfile",
    "ClientRule",
    "ClientRules",
    "HTTP_METHODS",
    "SPEC_NAMES",
    "TOKEN_ENDPOINT_ROLE",
    "Direction",
    "Finding",
    "Kind",
    "Lookup",
    "Operation",
    "Rules",
    "Spec",
    "generic_rules",
    "infer_api",
    "iter_spec_files",
    "load_all",
    "load_spec",
    "prefix_for",
    "read_rules",
    "specs_dir",
    "stem",
    "strip_flagged",
    "load_client_rules",
    "token_spec_name",
    "TroubleKind",
]
