"""Missing, malformed, expired and wrong-scope credentials are refused with the documented status and body.

Runs last: the expired-token test uses the first token the run was issued once its lifetime is over
(waiting for it when that is within the profile's `token_wait`, else a forged expired token).
"""

import pytest

from ._flows import credentials

pytestmark = [pytest.mark.auth, pytest.mark.late]


def test_credentials_refused(conformance, api, credential):
    credentials(conformance, api, credential)
