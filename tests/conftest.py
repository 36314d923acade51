import pytest

from helpers import ROOT


@pytest.fixture(autouse=True)
def _template_from_this_checkout(request):
    # pytest-cookies bakes the template named by --template, "." by default: make "." this checkout.
    request.config.option.template = str(ROOT)
