"""Data protection impact assessments (DPIA) and the write checks that wait for their approval."""
