"""Writes small, broken and mismatched training data sets into DIR, from
the Fashion-MNIST files in SRC (their first samples):
    gen-data.py SRC DIR"""
import gzip
import os
import struct
import sys

src, out = sys.argv[1], sys.argv[2]
with gzip.open(os.path.join(src, "t10k-images-idx3-ubyte.gz")) as f:
    images = f.read(16 + 100 * 784)[16:]
with gzip.open(os.path.join(src, "t10k-labels-idx1-ubyte.gz")) as f:
    labels = f.read(8 + 100)[8:]


def idx_images(n, rows, cols, data):
    return struct.pack(">IIII", 0x803, n, rows, cols) + data


def idx_labels(n, data):
    return struct.pack(">II", 0x801, n) + data


def write(name, data, gz=False):
    path = os.path.join(out, name)
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
        f.write(data)
    return path


write("images", idx_images(100, 28, 28, images))
write("labels", idx_labels(100, labels))
write("images.gz", idx_images(100, 28, 28, images), gz=True)
# Truncated: the header promises 100 images, the file holds 50.
write("images-truncated", idx_images(100, 28, 28, images[:50 * 784]))
# A gzip stream cut in the middle.
whole = gzip.compress(idx_images(100, 28, 28, images))
write("images-cut.gz", whole[:len(whole) // 2])
# Gzip magic, then garbage.
write("images-garbage.gz", b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
# 99 labels for 100 images.
write("labels-99", idx_labels(99, labels[:99]))
# 16x16 images (256 values per sample) for a model that takes 784.
write("images-16x16", idx_images(100, 16, 16, images[:100 * 256]))
# A label out of the model's 10 classes.
write("labels-class-12", idx_labels(100, labels[:7] + b"\x0c" + labels[8:]))
# More data than the header says.
write("images-long", idx_images(100, 28, 28, images) + b"\x00" * 10)
# No samples at all, with a sample shape far from the model's.
write("images-empty", idx_images(0, 524544, 513, b""))
