"""The peer systems of the benchmark: scikit-learn (tuned and plain) and fastText.

    python peers.py fit SYSTEM TRAIN TEST PREDICTIONS [--quick | --big]
        trains SYSTEM on TRAIN (TSV label<TAB>text), writes one predicted label per TEST row to
        PREDICTIONS, prints JSON with fit_seconds and the chosen settings.
    python peers.py speed SYSTEM TRAIN TEXTS WORKERS
        trains SYSTEM on TRAIN, then scores every line of TEXTS from raw text (Python jieba
        segmentation included) with WORKERS processes; prints JSON with paragraphs_per_second.

SYSTEM: sklearn-tuned (TfidfVectorizer over the tokens given + LogisticRegression lbfgs,
GridSearchCV over C, n-grams and min_df; --big: a smaller grid, --quick: one setting), sklearn-plain (Python jieba + sklearn defaults with a
token pattern that keeps one-character words), fasttext (supervised, word bigrams).
For sklearn-tuned and fasttext in `fit`, the text column already holds space-separated tokens.
"""
import json
import multiprocessing
import os
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def read_tsv(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            labels.append(label)
            texts.append(text)
    return labels, texts


def sklearn_tuned(quick, big=False):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline([
        ("tfidf", TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, sublinear_tf=True)),
        ("clf", LogisticRegression(solver="lbfgs", max_iter=1000)),
    ])
    grid = {"tfidf__ngram_range": [(1, 2)], "tfidf__min_df": [2], "clf__C": [10.0]} if quick else {
        "tfidf__ngram_range": [(1, 2)],
        "tfidf__min_df": [2],
        "clf__C": [1.0, 10.0],
    } if big else {
        "tfidf__ngram_range": [(1, 1), (1, 2)],
        "tfidf__min_df": [1, 2],
        "clf__C": [1.0, 10.0, 30.0],
    }
    return GridSearchCV(pipeline, grid, cv=3, scoring="f1_macro", n_jobs=1)


def jieba_words(text):
    import jieba

    return " ".join(jieba.lcut(text))


def sklearn_plain():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("tfidf", TfidfVectorizer(token_pattern=r"(?u)\b\w+\b")),
        ("clf", LogisticRegression()),
    ])


class FastText:
    def __init__(self, quick):
        self.epoch = 5 if quick else 25

    def fit(self, texts, labels):
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            for text, label in zip(texts, labels):
                f.write(f"__label__{label} {text}\n")
            path = f.name
        self.model = fasttext.train_supervised(input=path, wordNgrams=2, epoch=self.epoch, lr=0.5, minCount=1, dim=100, thread=1, verbose=0)
        os.unlink(path)
        return self

    def predict(self, texts):
        labels, _ = self.model.predict([t.replace("\n", " ") for t in texts])
        return [l[0][len("__label__"):] for l in labels]


def build(system, quick, big):
    if system == "sklearn-tuned":
        return sklearn_tuned(quick, big)
    if system == "sklearn-plain":
        return sklearn_plain()
    if system == "fasttext":
        return FastText(quick)
    raise SystemExit(f"unknown system {system}")


def fit(system, train, test, predictions, quick, big):
    labels, texts = read_tsv(train)
    _, test_texts = read_tsv(test)
    if system == "sklearn-plain":
        texts = [jieba_words(t) for t in texts]
        test_texts = [jieba_words(t) for t in test_texts]
    model = build(system, quick, big)
    started = time.perf_counter()
    model.fit(texts, labels)
    fit_seconds = time.perf_counter() - started
    settings = {}
    if system == "sklearn-tuned":
        settings = {k: str(v) for k, v in model.best_params_.items()}
        settings["grid_seconds"] = round(fit_seconds, 2)
        refit = model.refit_time_
        fit_seconds = refit
    predicted = model.predict(test_texts)
    with open(predictions, "w", encoding="utf-8") as f:
        for label in predicted:
            f.write(f"{label}\n")
    print(json.dumps({"fit_seconds": fit_seconds, "settings": settings}))


_MODEL = None


def _score_chunk(texts):
    segmented = [jieba_words(t) for t in texts]
    if isinstance(_MODEL, FastText):
        return len(_MODEL.predict(segmented))
    return len(_MODEL.predict_proba(segmented))


def speed(system, train, texts_path, workers):
    global _MODEL
    import jieba

    jieba.initialize()
    labels, texts = read_tsv(train)
    texts = [jieba_words(t) for t in texts]
    _MODEL = FastText(False) if system == "fasttext" else sklearn_plain()
    if system == "sklearn-tuned":
        _MODEL = sklearn_tuned(True).estimator.set_params(tfidf__ngram_range=(1, 2), tfidf__min_df=2, clf__C=10.0)
    _MODEL.fit(texts, labels)
    with open(texts_path, encoding="utf-8") as f:
        paragraphs = [line.rstrip("\n") for line in f if line.strip()]
    chunks = [paragraphs[i:i + 256] for i in range(0, len(paragraphs), 256)]
    started = time.perf_counter()
    if workers == 1:
        scored = sum(_score_chunk(c) for c in chunks)
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            scored = sum(pool.map(_score_chunk, chunks))
    elapsed = time.perf_counter() - started
    print(json.dumps({"paragraphs_per_second": scored / elapsed, "paragraphs": scored}))


if __name__ == "__main__":
    command, system = sys.argv[1], sys.argv[2]
    if command == "fit":
        fit(system, sys.argv[3], sys.argv[4], sys.argv[5], "--quick" in sys.argv, "--big" in sys.argv)
    elif command == "speed":
        speed(system, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        raise SystemExit(__doc__)
