"""System metrics: the machine's own figures sampled beside a run's metrics (``system/…``).

:mod:`.sampler` reads CPU, memory, disk and network figures with ``psutil``; :mod:`.gpu` reads
each NVIDIA GPU through NVML when a driver is present; :mod:`.monitor` samples both in a
background thread and logs them through the run's ordinary ``log`` (the metric queue).
"""
