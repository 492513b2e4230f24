"""Cross-lingual transfer: what English training gives Hindi and Telugu.

labels.py    the shared label spaces (binary sentiment; PER/LOC/ORG), applied to gold and predictions alike
sampling.py  nested, deterministic, stratified k-shot samples
scores.py    shared-space scores (strict and overlap NER F1, majority baseline) and bootstrap intervals
data.py      data/prepared/<task>/<lang> -> data/transfer/<task>/<lang> (mapped, every drop counted)
finetune.py  fixed-budget fine-tuning (no target dev set) and prediction with label-space rules
embed.py     the near-free baseline: logistic regression on frozen sentence embeddings
stages.py    the DVC stages: source models, zero-shot, few-shot curves, in-language on the shared space
report.py    reports/transfer/<task>.md: tables, learning-curve plots and the gap
"""
