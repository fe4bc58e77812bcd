"""OpenCV's face detector (Debian python3-opencv + opencv-data), a stand-in for Rekognition's
DetectFaces in the real-face test (test/frame-sampler-real-face.test.ts).

  detect FILE...   prints {"FILE": {"width": W, "height": H, "faces": [[x, y, w, h], ...]}, ...}
  locate           reads [{"frame": FILE, "crop": FILE}, ...] on stdin and prints, for each, where
                   the crop lies in the frame ([x, y, w, h], by template matching) and the faces
                   the detector finds in the crop alone
"""
import json
import sys

import cv2

CASCADE = cv2.CascadeClassifier('/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml')


def faces(image):
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    found = CASCADE.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40))
    return [[int(v) for v in box] for box in found]


def detect(files):
    out = {}
    for name in files:
        image = cv2.imread(name)
        out[name] = {'width': image.shape[1], 'height': image.shape[0], 'faces': faces(image)}
    return out


def locate(pairs):
    out = []
    for pair in pairs:
        frame = cv2.imread(pair['frame'], cv2.IMREAD_GRAYSCALE)
        crop = cv2.imread(pair['crop'])
        scores = cv2.matchTemplate(frame, cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.TM_SQDIFF_NORMED)
        best, _, at, _ = cv2.minMaxLoc(scores)
        out.append({'at': [int(at[0]), int(at[1]), crop.shape[1], crop.shape[0]], 'difference': float(best), 'faces': faces(crop)})
    return out


if __name__ == '__main__':
    if sys.argv[1] == 'detect':
        print(json.dumps(detect(sys.argv[2:])))
    else:
        print(json.dumps(locate(json.load(sys.stdin))))
