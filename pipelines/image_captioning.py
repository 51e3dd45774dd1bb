"""Image captioning with Show, Attend and Tell, end to end.

Run it with no arguments to train a CNN encoder and a soft-attention LSTM
decoder (Xu et al. 2015) on the bundled OpenMoji images named by their CLDR
names and aliases, score the held-out test split with BLEU-1..4, METEOR,
ROUGE-L and CIDEr-D beside a nearest-neighbour baseline, and export a
SavedModel that captions the bytes of image files::

    python -m pipelines.image_captioning
    tensorboard --logdir saved_models/image_captioning/runs

TensorBoard's Images tab shows, each epoch, where every word of a few
validation captions looked. Scenes of several emoji, whose captions say where
each one is, measure whether attention looks at the right place::

    python -m pipelines.image_captioning --data openmoji/scenes

Variants: ``--set attention=none`` (the ablation), ``attention_regularization=0``,
``backbone=mobilenet_v3_small backbone_weights=FILE.weights.h5
image_size=224``. Your own data:
a Flickr8k-style folder, a CSV/JSONL of ``image`` paths and ``caption``, or
``tfds:coco_captions``. Then::

    python -m pipelines.image_captioning predict photo.png
"""

from pipelines.runner import main

if __name__ == "__main__":
    main("image_captioning")
