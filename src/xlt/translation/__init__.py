"""English->Hindi and English->Telugu translation with warm-started encoder-decoders.

data.py (parallel corpora, filters, deduplication), config.py (params), model.py (build,
translate), train.py (Seq2SeqTrainer), evaluate.py + scores.py (sacreBLEU BLEU / chrF++).
"""
