"""Reading handwritten maths, one package per stage, imports pointing down:

``core`` < ``reader``, ``solve`` < ``strokes`` < ``image`` < ``photo`` < the pipeline (``recognize``, ``inputs``,
``second_look``) < ``page`` < ``synth``. ``tests/test_layers.py`` holds the order.
"""
