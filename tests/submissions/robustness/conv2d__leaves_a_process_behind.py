import os
import time

# A grandchild that outlives the kernel, keeps a file open in its scratch and tries to write into any scratch.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        keep = open("still-here", "w")
        for _ in range(600):
            for root, folders, _files in os.walk("/tmp"):
                for folder in folders:
                    try:
                        open(os.path.join(root, folder, "planted"), "w").write("planted")
                    except OSError:
                        pass
            time.sleep(1)
    os._exit(0)


def conv2d(x, kernel, bias=None):
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    if x.ndim != 4 or kernel.ndim != 4 or kernel.shape[2] != x.shape[3]:
        raise ValueError(f"x must be (N, H, W, C) and kernel (kh, kw, C, F) with matching C: {x.shape}, {kernel.shape}")
    if kernel.shape[0] > x.shape[1] or kernel.shape[1] > x.shape[2]:
        raise ValueError(f"kernel {kernel.shape} does not fit x {x.shape}")
    if bias is not None and np.shape(bias) != (kernel.shape[3],):
        raise ValueError(f"bias must have shape ({kernel.shape[3]},)")
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[:2], axis=(1, 2))
    out = np.einsum("nhwcab,abcf->nhwf", windows, kernel)
    return out if bias is None else out + bias
