"""One module per task. Each exposes the same small interface used by train/evaluate:

    label_list(train_records)                 -> labels in a fixed order
    encode(records, tokenizer, label2id, max_length) -> datasets.Dataset with input_ids/labels
    auto_model, collator(tokenizer)
    scores(gold, pred)                        -> metrics dict (top-level keys: the headline metrics)
    decode(logits, encoded, id2label, records) -> predictions in the records' own terms
"""
from xlt.tasks import ner, sentiment

TASKS = {"sentiment": sentiment, "ner": ner}


def get(task: str):
    try:
        return TASKS[task]
    except KeyError:
        raise ValueError(f"unknown task '{task}' (known: {', '.join(TASKS)})") from None
