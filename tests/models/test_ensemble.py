"""``models.Ensemble`` of every registered model class: the members' mean and spread,
the lead member's latent outputs, and a ``.keras`` round trip to identical predictions."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autoencoder_pipelines.models import Ensemble, RecurrentVAE, model_classes
from autoencoder_pipelines.models.ensemble import AVERAGED
from tests.models.test_contract import CASES

MODELS = model_classes()


# one case per registered model: the variants of a model (``"vq_vae[ema]"``) average the same outputs
@pytest.mark.parametrize("name", sorted(name for name in CASES if name in MODELS))
def test_an_ensemble_averages_predictions_keeps_the_leads_latents_and_round_trips(name, tmp_path):
    config, x, _, _ = CASES[name]
    members = [MODELS[name]({**config, "seed": seed}) for seed in (0, 1)]
    for i, member in enumerate(members):  # different weights, as trained members have
        member.set_weights([w + np.random.default_rng(i).normal(0, 0.05, w.shape).astype(w.dtype) for w in member.get_weights()])
    ensemble = Ensemble(members, lead=1, seeds=[0, 1])
    out = ensemble.predict(x, verbose=0)
    each = [m.predict(x, verbose=0) for m in members]
    averaged = [k for k in AVERAGED if k in each[0]]
    assert averaged, f"{name} has none of {AVERAGED}"
    for key in averaged:
        np.testing.assert_allclose(out[key], np.mean([o[key] for o in each], axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out[f"{key}_spread"], np.std([o[key] for o in each], axis=0), rtol=1e-4, atol=1e-6)
    for key in set(each[1]) - set(averaged):
        np.testing.assert_array_equal(out[key], each[1][key])  # the lead member's
    assert ensemble.config == members[1].config

    path = tmp_path / "ensemble.keras"
    ensemble.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, Ensemble) and (loaded.lead, loaded.seeds) == (1, [0, 1])
    reloaded = loaded.predict(x, verbose=0)
    for key, value in out.items():
        np.testing.assert_array_equal(reloaded[key], value)


def test_an_ensemble_refuses_members_of_several_classes_or_a_lead_out_of_range():
    config, *_ = CASES["vae"]
    other, *_ = CASES["autoencoder"]
    with pytest.raises(ValueError, match="one class"):
        Ensemble([MODELS["vae"](config), MODELS["autoencoder"](other)])
    with pytest.raises(ValueError, match="lead=2"):
        Ensemble([MODELS["vae"](config)], lead=2)


def test_an_ensemble_predicts_the_mean_of_what_its_members_predict_each_within_the_rul_range():
    config = dict(input_shape=(6, 3), lstm_units=4, regressor_units=5, mask_value=-99.0, rul_range=(0.0, 125.0))
    members = [RecurrentVAE({**config, "seed": 0, "rul_bias": 200.0}), RecurrentVAE({**config, "seed": 1, "rul_bias": 100.0})]
    for member in members:
        member.regressor.get_layer("rul").kernel.assign(np.zeros((5, 1), "float32"))
    x = np.random.default_rng(0).normal(size=(3, 6, 3)).astype("float32")
    out = Ensemble(members).predict(x, verbose=0)
    np.testing.assert_allclose(out["rul"], (125.0 + 100.0) / 2)  # not (200 + 100) / 2 clipped
    np.testing.assert_allclose(out["rul_spread"], 12.5)
