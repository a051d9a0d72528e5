"""The load harness, in three parts that import downwards only:

- `model/`: the workload model, what a run offers the portal and what it must meet;
- `judge/`: judging a run (audit, business figures, the clock's distortion, the knee, the
  verdict, the comparison of two runs, the reports);
- `drive/`: driving the portal (`portalsim run`, Locust's hooks, the engine, the users).

`metrics.py` (the measurements) and `results_model.py` (results.json's type) sit under all three;
`cli.py` holds the harness's commands and `locustfile.py` is Locust's entry."""
