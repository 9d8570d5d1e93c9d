"""The conformance suites: pytest modules run by `conformance certify`, or by plain pytest:

    pytest --pyargs conformance.suites --origin https://sandbox.example.com [--api NAME] [--profile quick]

Every test is parametrized from the specs and rules tables of the run (see `_parameters.py`), marked with
its API (`-m online_payments`) and its kind (`-m scenarios`). What each does lives in `_flows.py`; how a
request is sent, judged and recorded in `_runtime.py`; the run's setup in `_environment.py`.
"""
