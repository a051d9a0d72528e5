"""Load shapes. The open model's arrival rate comes from the workload's schedule, not from a
number of users: a shape here keeps the actors' user pools up for the run and ends it."""
