"""Side-by-side benchmark of this classifier against scikit-learn and fastText, in one run on the
same machine, data and splits: quality per data set, training time and peak memory (with a scale
series on C-STANCE), raw-text scoring speed, and gRPC throughput next to in-process scoring.

Run through run.sh, which installs the pinned peers. Full mode reads ../shared/datasets and
rewrites the "Peers" section of BENCHMARKS.md; --short runs the same code on data/corpus in a
minute or two (the test suite does this so the script cannot rot).
"""
import argparse
import collections
import datetime
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(ROOT, "benches", "peers", "peers.py")
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"


def timed(cmd, **kwargs):
    """Runs cmd under GNU time; returns (stdout, wall seconds, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", t.name, *cmd], capture_output=True, text=True, **kwargs)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
        secs, kib = t.read().split()[-2:]
    return proc.stdout, float(secs), int(kib) / 1024


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        return [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def read_jsonl(path, head):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    return [(r[head], r["text"]) for r in rows]


def stratified_split(rows, fraction, seed):
    """Seeded stratified split: per label, shuffle with random.Random(seed), first `fraction` to test."""
    by_label = collections.defaultdict(list)
    for row in rows:
        by_label[row[0]].append(row)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        n = round(len(group) * fraction)
        test += group[:n]
        train += group[n:]
    return train, test


class Dataset:
    def __init__(self, name, groups, note, official=None):
        self.name, self.groups, self.note, self.official = name, groups, note, official


def datasets(short, shared):
    if short:
        corpus = os.path.join(ROOT, "data", "corpus")
        for head in ("stance", "topic"):
            yield Dataset(f"corpus {head} (this repo)", [("all", read_jsonl(f"{corpus}/train.jsonl", head), read_jsonl(f"{corpus}/test.jsonl", head))],
                          "data/corpus train/test")
        return
    d = lambda *p: os.path.join(shared, *p)
    pairs = lambda rows, text=lambda r: r["text"]: [(r["label"], text(r)) for r in rows]
    train, test = read_tsv(d("nlpcc2016_stance", "train.tsv")), read_tsv(d("nlpcc2016_stance", "test.tsv"))
    targets = sorted({r["target"] for r in train})
    yield Dataset("nlpcc2016_stance (Weibo, 5 targets)",
                  [(t, pairs([r for r in train if r["target"] == t]), pairs([r for r in test if r["target"] == t])) for t in targets],
                  "official split; one model per target", official="nlpcc")
    yield Dataset("c_stance (Weibo, target as text prefix)",
                  [("all", pairs(read_tsv(d("c_stance", "train.tsv")), lambda r: r["target"] + "：" + r["text"]),
                    pairs(read_tsv(d("c_stance", "test.tsv")), lambda r: r["target"] + "：" + r["text"]))],
                  "official test split; 33,424 train rows; the target is prepended to the text")
    yield Dataset("pcnews_zh_tw (Taiwan news, Traditional)",
                  [("all", pairs(read_tsv(d("pcnews_zh_tw", "train.tsv"))), pairs(read_tsv(d("pcnews_zh_tw", "test.tsv"))))], "official split")
    yield Dataset("thucnews_titles (titles, 10 classes)",
                  [("all", pairs(read_tsv(d("thucnews_titles", "dev.tsv"))), pairs(read_tsv(d("thucnews_titles", "test.tsv"))))],
                  "no train split shipped: trained on dev (10,000), tested on test (10,000)")
    rows = pairs(read_tsv(d("toutiao_news", "data.tsv")))
    tr, te = stratified_split(rows, 0.2, 42)
    yield Dataset("toutiao_news (titles, 15 classes)", [("all", tr, te)], "no official split: stratified 80/20 per label, random.Random(42)")
    yield Dataset("chnsenticorp (reviews, sentiment)",
                  [("all", pairs(read_tsv(d("chnsenticorp", "train.tsv"))), pairs(read_tsv(d("chnsenticorp", "test.tsv"))))], "official split")


def metrics(truth, predicted):
    labels = sorted(set(truth) | set(predicted))
    f1 = {}
    for label in labels:
        tp = sum(t == p == label for t, p in zip(truth, predicted))
        fp = sum(p == label and t != label for t, p in zip(truth, predicted))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    true_labels = sorted(set(truth))
    return {
        "accuracy": sum(t == p for t, p in zip(truth, predicted)) / len(truth),
        "macro_f1": sum(f1[l] for l in true_labels) / len(true_labels),
        "f1": f1,
    }


class Runner:
    def __init__(self, bin_dir, work, short):
        self.bin, self.work, self.short = bin_dir, work, short
        self.python = sys.executable

    def write(self, name, rows, tokens=False):
        path = os.path.join(self.work, name)
        texts = [t for _, t in rows]
        if tokens:
            texts = self.tokens(texts)
        with open(path, "w", encoding="utf-8") as f:
            f.write("label\ttext\n" if not tokens and not name.endswith(".peer.tsv") else "")
            for (label, _), text in zip(rows, texts):
                f.write(f"{label}\t{text}\n")
        return path

    def tokens(self, texts):
        lines = os.path.join(self.work, "tokens-in.txt")
        with open(lines, "w", encoding="utf-8") as f:
            f.writelines(t.replace("\n", " ") + "\n" for t in texts)
        out = subprocess.run([f"{self.bin}/classify", "--model", os.path.join(ROOT, "models", "default"), "--input-format", "lines", "--output", "tokens", lines],
                             capture_output=True, text=True, check=True).stdout
        result = out.split("\n")[: len(texts)]
        return [r if r else "<empty>" for r in result]

    def ours(self, train, test, alpha, solver="sparse"):
        """Trains with the `train` binary; returns (predictions, fit seconds, peak MiB, vocabulary size)."""
        train_path = self.write("ours-train.tsv", train)
        model = os.path.join(self.work, "ours-model")
        out, secs, mib = timed([f"{self.bin}/train", "--data", train_path, "--format", "tsv", "--heads", "label",
                                "--alpha", str(alpha), "--solver", solver, "--max-memory", "16GiB", "--out", model])
        vocabulary = int(re.search(r"vocabulary: (\d+) terms", out).group(1))
        lines = os.path.join(self.work, "ours-test.txt")
        with open(lines, "w", encoding="utf-8") as f:
            f.writelines(t.replace("\n", " ") + "\n" for _, t in test)
        scored = subprocess.run([f"{self.bin}/classify", "--model", model, "--input-format", "lines", lines], capture_output=True, text=True, check=True).stdout
        predictions = [json.loads(l)["heads"]["label"]["label"] if "heads" in l else "" for l in scored.splitlines()]
        return predictions, secs, mib, vocabulary

    def tune_alpha(self, train):
        """3-fold CV macro-F1 over a small alpha grid, on the training rows only."""
        train_path = self.write("ours-tune.tsv", train)
        best = (-1.0, 1.0)
        for alpha in (0.1, 0.3, 1.0, 3.0):
            out = subprocess.run([f"{self.bin}/train", "--data", train_path, "--format", "tsv", "--heads", "label", "--cv", "3",
                                  "--alpha", str(alpha), "--out", os.path.join(self.work, "tune-model")], capture_output=True, text=True, check=True).stdout
            f1 = float(re.search(r"label: 3-fold accuracy [0-9.]+ ± [0-9.]+, macro-F1 ([0-9.]+)", out).group(1))
            best = max(best, (f1, alpha))
        return best[1]

    def peer(self, system, train, test):
        tokens = system != "sklearn-plain"
        train_path = self.write(f"{system}-train.peer.tsv", train, tokens)
        test_path = self.write(f"{system}-test.peer.tsv", test, tokens)
        predictions = os.path.join(self.work, f"{system}.pred")
        size = ["--quick"] if self.short else ["--big"] if len(train) > 20000 else []
        cmd = [self.python, PEERS, "fit", system, train_path, test_path, predictions] + size
        out, secs, mib = timed(cmd)
        report = json.loads(out.strip().splitlines()[-1])
        return [l.rstrip("\n") for l in open(predictions, encoding="utf-8")], report["fit_seconds"], mib, report["settings"], secs


def quality(runner, data, short):
    rows = []
    for dataset in data:
        systems = collections.OrderedDict()
        for group, train, test in dataset.groups:
            alpha = 0.1 if short or len(train) > 40000 else runner.tune_alpha(train)
            predicted, secs, mib, vocab = runner.ours(train, test, alpha)
            entry = systems.setdefault("ours (jieba-rs, sparse solver)", {"truth": [], "pred": [], "secs": 0.0, "mib": 0.0, "note": []})
            entry["note"].append(f"alpha {alpha}")
            for name in ("sklearn-tuned", "sklearn-plain", "fasttext"):
                p, fit_secs, peak, settings, wall = runner.peer(name, train, test)
                e = systems.setdefault(name, {"truth": [], "pred": [], "secs": 0.0, "mib": 0.0, "note": []})
                e["truth"] += [l for l, _ in test]
                e["pred"] += p
                e["secs"] += fit_secs
                e["mib"] = max(e["mib"], peak)
                if settings:
                    e["note"].append(", ".join(f"{k.split('__')[-1]} {v}" for k, v in settings.items()))
            entry["truth"] += [l for l, _ in test]
            entry["pred"] += predicted
            entry["secs"] += secs
            entry["mib"] = max(entry["mib"], mib)
        for name, e in systems.items():
            m = metrics(e["truth"], e["pred"])
            official = ""
            if dataset.official == "nlpcc":
                official = f"{(m['f1'].get('FAVOR', 0) + m['f1'].get('AGAINST', 0)) / 2:.4f}"
            notes = sorted(set(e["note"]))
            rows.append((dataset.name, name, f"{m['accuracy']:.4f}", f"{m['macro_f1']:.4f}", official, f"{e['secs']:.1f} s", f"{e['mib']:.0f} MiB",
                         "; ".join(notes[:3]) + (" …" if len(notes) > 3 else "")))
        rows.append((f"*{dataset.note}*", "", "", "", "", "", "", ""))
    return rows


def scale(runner, short, shared):
    if short:
        base = read_jsonl(os.path.join(ROOT, "data", "corpus", "train.jsonl"), "stance")
        test = read_jsonl(os.path.join(ROOT, "data", "corpus", "test.jsonl"), "stance")
        sizes, dense_limit = [500, 1000, len(base)], 1000
    else:
        prefixed = lambda r: (r["label"], r["target"] + "：" + r["text"])
        base = [prefixed(r) for r in read_tsv(os.path.join(shared, "c_stance", "train.tsv"))]
        test = [prefixed(r) for r in read_tsv(os.path.join(shared, "c_stance", "test.tsv"))]
        sizes, dense_limit = [5000, 10000, 20000, len(base)], 10000
    rows = []
    for n in sizes:
        train = base[:n]
        for solver in ("sparse", "dense"):
            if solver == "dense" and n > dense_limit:
                rows.append((n, f"ours ({solver})", "", "skipped: the dense matrix grows with rows × features", "", ""))
                continue
            p, secs, mib, vocab = runner.ours(train, test, 0.1, solver)
            rows.append((n, f"ours ({solver})", vocab, f"{secs:.1f} s", f"{mib:.0f} MiB", f"{metrics([l for l, _ in test], p)['macro_f1']:.4f}"))
        for name in ("sklearn-tuned", "fasttext"):
            saved = runner.short
            runner.short = True  # one fixed setting (C 10, 1–2-grams, min_df 2) instead of the grid
            p, fit_secs, peak, _, wall = runner.peer(name, train, test)
            runner.short = saved
            rows.append((n, name, "", f"{fit_secs:.1f} s", f"{peak:.0f} MiB", f"{metrics([l for l, _ in test], p)['macro_f1']:.4f}"))
    return rows


def speed(runner, short):
    texts = [t for _, t in read_jsonl(os.path.join(ROOT, "data", "corpus", "test.jsonl"), "stance")]
    train = read_jsonl(os.path.join(ROOT, "data", "corpus", "train.jsonl"), "stance")
    n = 2000 if short else 20000
    lines = os.path.join(runner.work, "speed.txt")
    with open(lines, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(texts[i % len(texts)] + "\n")
    train_path = runner.write("speed-train.peer.tsv", train)
    cores = os.cpu_count() or 1
    rows = []
    for threads in (1, cores):
        _, secs, _ = timed([f"{runner.bin}/classify", "--model", os.path.join(ROOT, "models", "default"), "--threads", str(threads), "--input-format", "lines", lines])
        rows.append(("ours: `classify` (process start and model load included)", threads, f"{n / secs:.0f}"))
    for system in ("sklearn-plain", "sklearn-tuned", "fasttext"):
        for workers in (1, cores):
            out = subprocess.run([runner.python, PEERS, "speed", system, train_path, lines, str(workers)], capture_output=True, text=True, check=True).stdout
            rows.append((f"{system} (Python jieba segmentation included)", workers, f"{json.loads(out)['paragraphs_per_second']:.0f}"))
    return rows, n


def floor_and_pipeline(short):
    if short:
        return None
    out = subprocess.run(["cargo", "bench", "--quiet", "--bench", "pipeline"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.strip()


def grpc(runner, short):
    server = subprocess.Popen([f"{runner.bin}/serve", "--addr", "127.0.0.1:0", "--model", os.path.join(ROOT, "models", "default")],
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"})
    try:
        addr = None
        for line in server.stderr:
            match = re.search(r"listening on (\S+)", line)
            if match:
                addr = match.group(1)
            if "serving model" in line:
                break
        out = subprocess.run([f"{runner.bin}/loadgen", "--addr", addr, "--model", os.path.join(ROOT, "models", "default"),
                              "--input", os.path.join(ROOT, "data", "corpus", "test.jsonl"), "--seconds", "1" if short else "5"],
                             capture_output=True, text=True, check=True).stdout
        return out.strip()
    finally:
        server.terminate()
        server.wait(timeout=20)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "datasets"))
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory() as work:
        runner = Runner(args.bin_dir, work, args.short)
        versions = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True).stdout.split()
        keep = [v for v in versions if v.split("==")[0].lower() in {"scikit-learn", "fasttext-wheel", "jieba", "numpy", "scipy"}]
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
        quality_rows = quality(runner, list(datasets(args.short, args.shared)), args.short)
        scale_rows = scale(runner, args.short, args.shared)
        speed_rows, n = speed(runner, args.short)
        pipeline = floor_and_pipeline(args.short)
        grpc_out = grpc(runner, args.short)
    mode = "short mode (data/corpus only)" if args.short else "full run"
    section = [BEGIN, "## Peers: scikit-learn and fastText, side by side (issue 5)", "",
               f"{mode}, {datetime.date.today()}, {os.cpu_count()} cores ({cpu}), {rustc}, Python {platform.python_version()}, "
               + ", ".join(keep) + f"; {time.time() - started:.0f} s in all. Command: `bash benches/peers/run.sh"
               + (" --short" if args.short else "") + "`.", "",
               "Systems: **ours** = this project's `train` (sparse solver, default features, alpha by 3-fold CV on the training rows over 0.1/0.3/1/3 "
               "where the set has ≤ 40k rows, else 0.1; the scale series uses alpha 0.1 ≈ sklearn's C 10); **sklearn-tuned** = TfidfVectorizer (sublinear tf) over the same tokens our pipeline produces + "
               "LogisticRegression (lbfgs, multinomial), GridSearchCV (3-fold, macro-F1) over C ∈ {1, 10, 30}, n-grams {1, 1–2}, min_df {1, 2} (above 20k rows: C ∈ {1, 10}, 1–2-grams, min_df 2; the scale series uses C 10, 1–2-grams, min_df 2); "
               "**sklearn-plain** = Python jieba + sklearn defaults with `token_pattern=r\"(?u)\\b\\w+\\b\"`; **fasttext** = supervised on the same "
               "tokens, word bigrams, 25 epochs, lr 0.5, dim 100. Fit time is the final fit only (sklearn-tuned: the refit after the grid; "
               "ours: the whole `train` process including reading and tokenising); peak memory is the process's max RSS.", "",
               "### Quality and training cost per data set", "",
               table(["data set", "system", "accuracy", "macro-F1", "NLPCC F_avg", "fit time", "peak RSS", "settings"], quality_rows), "",
               "### Training cost as data grows (C-STANCE, target as text prefix, official test split)" if not args.short else "### Training cost as data grows (corpus stance)", "",
               table(["train rows", "system", "features (ours)", "fit time", "peak RSS", "test macro-F1"], scale_rows), "",
               f"### Scoring speed from raw text ({n} paragraphs of the corpus test split)", "",
               table(["system", "cores", "paragraphs/s"], speed_rows), ""]
    if pipeline:
        section += ["### The jieba-rs floor (`cargo bench --bench pipeline`, same run)", "", pipeline.replace("# ", "#### "), ""]
    section += ["### gRPC against the real server (`loadgen`, same run)", "", grpc_out.replace("# ", "#### "), "", END]
    text = "\n".join(section) + "\n"
    if args.short:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        current = open(args.out, encoding="utf-8").read() if os.path.exists(args.out) else "# Benchmarks\n"
        if BEGIN in current:
            current = current[: current.index(BEGIN)] + text + current[current.index(END) + len(END) + 1:]
        else:
            current = current.rstrip("\n") + "\n\n" + text
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(current)
    print(text)


if __name__ == "__main__":
    main()
