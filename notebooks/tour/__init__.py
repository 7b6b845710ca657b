"""The cells of the tour, one module per section, each text in English and Korean.

Every module exposes ``CELLS``, a list of ``text(en=..., ko=...)`` and
``code(...)`` items; ``notebooks/build_tour.py`` turns them into one notebook
per language. Code cells are shared, so both notebooks run the same code and
print the same outputs; only the explanations differ.
"""

SECTIONS = (
    "s00_introduction",
    "s01_hyperparameters",
    "s02_hyperparameter_search",
    "s03_fit_loop",
    "s04_early_stopping",
    "s05_crossentropy",
    "s06_no_grad_and_eval",
    "s07_model_checkpoint",
    "s08_terminate_on_nan",
    "s09_schedules",
    "s10_lr_range_test",
    "s11_batchnorm",
    "s12_gradient_flow",
    "s13_backprop_by_hand",
    "s14_mnist",
    "s15_batchnorm_paper",
    "s16_closing",
)
"""Module names, in the order the sections appear."""
