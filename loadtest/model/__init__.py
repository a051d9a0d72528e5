"""The workload model: what a run offers the portal and what it must meet (the
workload file, its shapes and SLO rules, the world of agencies and procedures and their
credentials, the arrivals, the officers' queue, queueing theory, staffing)."""
