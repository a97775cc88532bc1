"""Several ComfyUI servers behind one queue of the app's own (layer 2, above ``comfy``).

``cluster.Cluster`` is the face; ``core.ClusterCore`` the state its parts share (members, queue,
lock); ``dispatch`` the fair queue and the choice of a server; ``run.JobRunner`` a job on its server;
``health.HealthChecker`` the checks of each server; ``verdicts`` which jobs can never run or ran
too long. Production runs every app over a Cluster, one server too."""
