#!/bin/bash -eu
# ClusterFuzzLite runs this in the image of .clusterfuzzlite/Dockerfile: the OSS-Fuzz build.
exec "$SRC/loopspec/fuzz/build.sh"
