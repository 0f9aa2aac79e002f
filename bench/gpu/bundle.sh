# Sourced by bench/gpu/device.sh and bench/gpu/wave.sh on the GPU machine, from the checkout's root: unpacks
# .whl/gpu-bundle.tar.xz into /tmp/gpu_bundle (once per machine) and puts its site/ first on PYTHONPATH (so its
# transformers 4.53.2 shadows the image's 5.x), after the checkout itself: `import spacy_biobert` takes this
# checkout's code, the bundle's spacy_biobert dist-info gives the entry points (rebuild the bundle after a change to
# setup.cfg's entry points). Sets BUNDLE and MINILM (the packed embedded encoder's folder).
BUNDLE=/tmp/gpu_bundle
MINILM=$BUNDLE/minilm_cdr_fp16
if [ ! -f "$BUNDLE/.unpacked" ]; then
    python3 -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')" \
        .whl/gpu-bundle.tar.xz "$BUNDLE" && touch "$BUNDLE/.unpacked" || { echo "could not unpack .whl/gpu-bundle.tar.xz"; exit 1; }
fi
export PYTHONPATH=$PWD:$BUNDLE/site PYTHONUNBUFFERED=1
