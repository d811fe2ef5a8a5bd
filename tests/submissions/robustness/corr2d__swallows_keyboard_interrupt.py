import time


def corr2d(image, kernel):
    while True:
        try:
            time.sleep(0.1)
        except KeyboardInterrupt:
            pass
