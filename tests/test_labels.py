"""Class labels stored as text: --classes (names, or auto from the score columns' names) and
--pos-label. Expected values are cross-entropy and log-loss written out in NumPy on the same rows
with the labels as numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from tests.conftest import assert_user_error, run, write

SCORES = np.array([[2.0, 0.5, 0.1], [0.2, 1.5, 0.3], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]])
SPECIES = ["cat", "dog", "bird", "dog"]
NAMES = ["cat", "dog", "bird"]


def cross_entropy(scores: np.ndarray, labels: list[int]) -> float:
    """torch.nn.CrossEntropyLoss on logits, written out: log-sum-exp minus the true score."""
    rows = np.arange(len(labels))
    return float(np.mean(np.log(np.exp(scores).sum(axis=1)) - scores[rows, labels]))


@pytest.fixture
def pets(tmp_path):
    frame = pd.DataFrame(SCORES, columns=[f"s_{name}" for name in NAMES])
    frame["species"] = SPECIES
    path = tmp_path / "pets.csv"
    frame.to_csv(path, index=False)
    return path


def test_labels_named_in_the_score_columns_order(capsys, pets):
    outcome = run(
        capsys,
        "eval",
        "-l",
        "ce",
        "-p",
        "s_cat,s_dog,s_bird",
        "-t",
        "species",
        "--classes",
        "cat,dog,bird",
        "-f",
        "json",
        pets,
    )
    expected = cross_entropy(SCORES, [NAMES.index(s) for s in SPECIES])
    assert json.loads(outcome.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)


def test_classes_auto_reads_them_from_the_score_columns(capsys, pets):
    # the glob expands in natural order: s_bird, s_cat, s_dog; labels follow the columns
    outcome = run(
        capsys,
        "eval",
        "-l",
        "ce,zero_one",
        "-p",
        "s_*",
        "-t",
        "species",
        "--classes",
        "auto",
        "-f",
        "json",
        pets,
    )
    values = {r["label"]: r["value"] for r in json.loads(outcome.out)["results"]}
    assert values["ce"] == pytest.approx(cross_entropy(SCORES, [0, 1, 2, 1]), rel=1e-12)
    assert values["zero_one"] == 0.25  # row 4's scores tie: argmax is cat, the label dog


def test_a_parquet_category_column_is_read_as_labels(tmp_path):
    frame = pd.DataFrame(SCORES, columns=[f"score_{name}" for name in NAMES])
    frame["species"] = pd.Categorical(SPECIES)
    path = tmp_path / "pets.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    report = losscli.evaluate(str(path), "ce", pred="score_*", target="species", classes="auto")
    order = ["bird", "cat", "dog"]  # the columns' natural order
    scores = frame[[f"score_{name}" for name in order]].to_numpy()
    assert report["ce"] == pytest.approx(cross_entropy(scores, [order.index(s) for s in SPECIES]))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--classes", "cat,dog"], ["names 2 classes", "3 columns"]),
        (["--classes", "dog,cat,bird"], ["not the order of the score columns", "cat,dog,bird"]),
        (["--classes", "cat,cat,dog"], ["two or more different class names"]),
        (["--classes", "cat,dog,fish"], ["'bird'", "matches no class", "first at row 3"]),
        (["--classes", "cat,dog,bird", "--pos-label", "cat"], ["give one of them"]),
    ],
)
def test_labels_that_cannot_be_read_are_refused_with_the_labels_named(capsys, pets, options, words):
    args = ["eval", "-l", "ce", "-p", "s_cat,s_dog,s_bird", "-t", "species", pets]
    assert_user_error(run(capsys, *args, *options), *words)


def test_a_binary_target_with_pos_label(capsys, tmp_path):
    data = write(tmp_path / "yn.csv", "prob,answer\n0.9,yes\n0.2,no\n0.6,yes\n0.3,\n")
    outcome = run(
        capsys,
        "eval",
        "-l",
        "bce",
        "-p",
        "prob",
        "-t",
        "answer",
        "--pos-label",
        "yes",
        "--nan",
        "drop",
        "-f",
        "json",
        data,
    )
    p, t = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])  # the row without a label dropped
    expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))  # sklearn.metrics.log_loss
    result = json.loads(outcome.out)["results"][0]
    assert result["value"] == pytest.approx(expected, rel=1e-12) and result["n"] == 3


def test_a_third_label_beside_the_positive_one_is_refused(capsys, tmp_path):
    data = write(tmp_path / "yn.csv", "prob,answer\n0.9,yes\n0.2,no\n0.6,maybe\n")
    outcome = run(
        capsys, "eval", "-l", "bce", "-p", "prob", "-t", "answer", "--pos-label", "yes", data
    )
    assert_user_error(outcome, "'maybe', 'no' besides the positive label 'yes'")


def test_numbers_stay_numbers_under_pos_label(tmp_path):
    data = {"pred": [0.9, 0.2], "target": [1.0, 0.0]}
    plain = losscli.evaluate(data, "bce")["bce"]
    assert losscli.evaluate(data, "bce", pos_label="yes")["bce"] == plain


# -- labels in a second input: a targets file, a candidate's own targets ---------------------------


@pytest.fixture
def split(tmp_path):
    """The pets' scores in one file (with an id), their labels in another, shuffled by id."""
    scores = pd.DataFrame(SCORES, columns=[f"s_{name}" for name in NAMES])
    scores.insert(0, "id", range(1, len(SPECIES) + 1))
    scores.to_csv(tmp_path / "scores.csv", index=False)
    labels = pd.DataFrame({"id": range(1, len(SPECIES) + 1), "species": SPECIES})
    labels.to_csv(tmp_path / "labels.csv", index=False)
    labels.iloc[::-1].to_csv(tmp_path / "shuffled.csv", index=False)
    return tmp_path


@pytest.mark.parametrize(
    ("targets", "align"),
    [("labels.csv", []), ("shuffled.csv", ["--on", "id"])],
    ids=["by-position", "on-key"],
)
def test_labels_from_a_targets_file(capsys, split, targets, align):
    outcome = run(
        capsys,
        "eval",
        "-l",
        "ce",
        "-p",
        "s_cat,s_dog,s_bird",
        "--targets",
        split / targets,
        "-t",
        "species",
        "--classes",
        "cat,dog,bird",
        *align,
        "-f",
        "json",
        split / "scores.csv",
    )
    expected = cross_entropy(SCORES, [NAMES.index(s) for s in SPECIES])
    assert json.loads(outcome.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)


def test_a_label_of_a_targets_file_that_matches_no_class_names_its_file_and_row(capsys, split):
    write(split / "odd.csv", "id,species\n1,cat\n2,dog\n3,fish\n4,dog\n")
    args = ["eval", "-l", "ce", "-p", "s_cat,s_dog,s_bird", "--classes", "cat,dog,bird"]
    outcome = run(
        capsys, *args, "--targets", split / "odd.csv", "-t", "species", split / "scores.csv"
    )
    assert_user_error(outcome, "'fish'", "row 3 of", "odd.csv", "matches no class")


def test_compare_reads_labels_of_both_models(capsys, tmp_path):
    other = SCORES[:, ::-1].copy()
    for name, scores in (("a.csv", SCORES), ("b.csv", other)):
        frame = pd.DataFrame(scores, columns=[f"s_{n}" for n in NAMES])
        frame["species"] = SPECIES
        frame.to_csv(tmp_path / name, index=False)
    args = ["compare", "-l", "ce", "-p", "s_cat,s_dog,s_bird", "-t", "species"]
    outcome = run(
        capsys,
        *args,
        "--classes",
        "cat,dog,bird",
        "-f",
        "json",
        tmp_path / "a.csv",
        tmp_path / "b.csv",
    )
    entry = json.loads(outcome.out)["comparisons"][0]
    codes = [NAMES.index(s) for s in SPECIES]
    assert entry["baseline"] == pytest.approx(cross_entropy(SCORES, codes), rel=1e-12)
    assert entry["candidate"] == pytest.approx(cross_entropy(other, codes), rel=1e-12)
    # Labels that differ between the models are caught after coding, as numbers are.
    frame = pd.read_csv(tmp_path / "b.csv")
    frame.loc[0, "species"] = "dog"
    frame.to_csv(tmp_path / "b.csv", index=False)
    outcome = run(
        capsys, *args, "--classes", "cat,dog,bird", tmp_path / "a.csv", tmp_path / "b.csv"
    )
    assert_user_error(outcome, "disagree on the target at row 1")


def test_compare_with_a_binary_target_of_words(tmp_path):
    data = {"prob": [0.9, 0.2, 0.6], "answer": ["yes", "no", "yes"]}
    pd.DataFrame(data).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({**data, "prob": [0.7, 0.4, 0.5]}).to_csv(tmp_path / "b.csv", index=False)
    result = losscli.compare(
        tmp_path / "a.csv", tmp_path / "b.csv", "bce", pred="prob", target="answer", pos_label="yes"
    )
    t = np.array([1.0, 0.0, 1.0])
    for side, p in (("baseline", [0.9, 0.2, 0.6]), ("candidate", [0.7, 0.4, 0.5])):
        p = np.array(p)
        expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))  # sklearn.metrics.log_loss
        assert result.to_dict()["comparisons"][0][side] == pytest.approx(expected, rel=1e-12)


def test_a_check_declares_its_labels_and_csv_dialect(capsys, tmp_path, monkeypatch):
    rows = "\n".join(
        ";".join(f"{v:.1f}".replace(".", ",") for v in scores) + f";{label}"
        for scores, label in zip(SCORES, SPECIES, strict=True)
    )
    write(
        tmp_path / "eu.csv", "# exported by the scorer\ns_cat;s_dog;s_bird;species\n" + rows + "\n"
    )
    write(
        tmp_path / "losscli.toml",
        '[checks.pets]\nfiles = "eu.csv"\nloss = "ce"\npred = "s_*"\ntarget = "species"\n'
        'classes = ["bird", "cat", "dog"]\n'
        'csv = { delimiter = ";", decimal = ",", comment = "#" }\nmax = { ce = 100 }\n',
    )
    monkeypatch.chdir(tmp_path)
    report = json.loads(run(capsys, "check", "-f", "json").out)["reports"][0]
    # s_* expands to s_bird, s_cat, s_dog: the classes follow the columns
    order = [2, 0, 1]
    expected = cross_entropy(SCORES[:, order], [["bird", "cat", "dog"].index(s) for s in SPECIES])
    assert report["results"][0]["value"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('csv = { delimiter = ";;" }', ["losscli.toml:", "checks.pets.csv", "not one character"]),
        ('csv = { header = "no" }', ["checks.pets.csv.header", "true or false"]),
        ('csv = { delimter = ";" }', ["checks.pets.csv.delimter", "Did you mean 'delimiter'"]),
        ('csv = ";"', ["checks.pets.csv", "table of CSV options"]),
        ("classes = 3", ["checks.pets.classes", "string or a list of strings"]),
    ],
)
def test_a_check_with_a_wrong_label_or_dialect_key_is_refused_naming_it(
    capsys, tmp_path, monkeypatch, line, words
):
    write(
        tmp_path / "losscli.toml",
        f'[checks.pets]\nfiles = "x.csv"\nloss = "ce"\n{line}\nmax = {{ ce = 1 }}\n',
    )
    monkeypatch.chdir(tmp_path)
    assert_user_error(run(capsys, "check"), *words)
