"""Programs written for autograd, in the style of autograd's own examples (each imports
``autograd.numpy as np`` and defines an ``objective(params)`` and ``PARAMS``): srcgrad must
give autograd's gradient with only the ``grad`` import changed."""
