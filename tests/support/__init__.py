"""Helpers the suites share (no tests here): topics on a real broker (topics.py), the fault
verdict (verifier.py), librdkafka's mock cluster (mock_cluster.py), Hypothesis values
(json_values.py), the bad-input table (bad_calls.py), the fuzzing oracle (fuzz/) and the
stress scenarios (stress/)."""
