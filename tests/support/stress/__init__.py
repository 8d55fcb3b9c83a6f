"""What tests/integration/test_stress.py runs, in the order each builds on the last: records.py
(everything about a record follows from its key; one codec per serializer), senders.py (threads
sending into a ledger), report.py (the ledger and the topic read back, judged), scenarios.py (the
scenarios, each run in a child interpreter)."""
