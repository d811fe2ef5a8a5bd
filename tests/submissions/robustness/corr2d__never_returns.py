def corr2d(image, kernel):
    while True:
        pass
