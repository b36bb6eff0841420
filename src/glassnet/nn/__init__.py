"""Floor 1, the textbook: a neural network in NumPy, one concept a module. Read it in this order:

=====================  ====================================================================================
:mod:`.functional`     stable sigmoid, softmax, log-softmax, activations and their derivatives
:mod:`.initializers`   Glorot, He and scikit-learn's initial weights; explicit random generators
:mod:`.layers`         ``Dense``, the activation layers, ``Dropout``, ``BatchNorm``: forward and backward side by side
:mod:`.losses`         one module per loss, all from logits, with sample weights
:mod:`.network`        ``Sequential`` on one flat parameter vector, and ``build_mlp``
:mod:`.optim`          ``SGD`` (momentum, Nesterov), ``Adam``, ``AdamW``
:mod:`.schedules`      learning-rate schedules
:mod:`.gradcheck`      central differences in float64 against every backward pass
:mod:`.trace`          one training step, every intermediate array named
=====================  ====================================================================================

Everything here needs only NumPy (and the compiled kernels of :mod:`glassnet.fast`, when installed).
"""
