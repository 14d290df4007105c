# ---- hypothesis profiles (issue 18) ---------------------------------------------------------
# CI runs the "ci" profile. MSANALYSIS_FUZZ=long selects the long fuzzing run of
# tests/test_fuzz.py (docs/reliability-fuzzing.md): its tests take shares of max_examples.
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile(
    "long",
    max_examples=35_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("MSANALYSIS_FUZZ", "ci"))
# ---- end of hypothesis profiles --------------------------------------------------------------
