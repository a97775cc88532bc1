"""Jobs as users own them (layer 3, above ``cluster``): ``service.JobService`` records every job
in ``store`` (SQLite and files) before it is sent, follows it, cancels and resumes it; ``limits`` and
``uploads`` decide what a public app allows; ``inpaint`` stages an inpainting job's files; ``joblog``
writes one log line per state change. Words are not made here: errors are stored as codes and data."""
