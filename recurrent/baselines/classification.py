"""The text classification baseline: TF-IDF of word 1-2 grams (sublinear tf)
with logistic regression (scikit-learn)."""

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline


def tfidf_logistic_regression() -> Pipeline:
    """An unfitted scikit-learn pipeline: texts in, labels out."""
    return make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
        LogisticRegression(C=10.0, max_iter=2000),
    )
