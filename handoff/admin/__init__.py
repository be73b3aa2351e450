"""NLU review and retraining for admins: inbox, labels, reviewed data, training, models.

`rasa_eval` runs inside .venv-rasa (it loads models); keep this package's __init__ free of
imports so that module can be started with `python -m handoff.admin.rasa_eval` there.
See docs/retraining.md.
"""
