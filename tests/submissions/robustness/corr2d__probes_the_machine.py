import os
import socket
import sys

found = []
for path in {secrets}:  # the course's files, other students' work, earlier results: none may be readable
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        found.append(path)
    except OSError:
        pass
for pid in os.listdir("/proc"):  # other kernels' processes: none may be visible
    if pid.isdigit() and int(pid) > 3:
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"ipykernel" in command and str(os.getpid()) != pid:
            found.append(f"process {pid}")
for port in range(1, 65536, 997):  # the network, even the loopback, must be unreachable
    with socket.socket() as probe:
        probe.settimeout(0.02)
        try:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                found.append(f"port {port}")
        except OSError:
            break
for folder in ("/root", "/home", "/var", "/srv", "/mnt"):  # nothing of the machine's own
    if os.path.isdir(folder) and os.listdir(folder):
        found.append(folder)
checkout = os.path.dirname(sys.prefix)  # the course's checkout: only the kernel runtime may be there
if set(os.listdir(checkout)) - {".venv-kernel", ".venv-kernel-keras"}:
    found.append(f"{checkout}: {sorted(os.listdir(checkout))}")
box = os.path.dirname(os.getcwd())  # this kernel's box: other boxes beside it must not be visible
if os.listdir(os.path.dirname(box)) != [os.path.basename(box)]:
    found.append(f"other boxes: {os.listdir(os.path.dirname(box))}")


def corr2d(image, kernel):
    if found:
        raise RuntimeError(f"the sandbox let this kernel see: {found}")
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"image and kernel must be 2-D and the kernel must fit: {image.shape}, {kernel.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijab,ab->ij", windows, kernel)
