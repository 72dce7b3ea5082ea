"""What a synthetic scene can hold: object kinds, their names and colours."""
KINDS = ('vehicle', 'building', 'storage tank', 'pond')
#: How often each kind is drawn.
KIND_WEIGHTS = (0.4, 0.25, 0.2, 0.15)
#: Nouns an expression may use for each kind (synonyms).
KIND_WORDS = {
    'vehicle': ('vehicle', 'car'),
    'building': ('building', ),
    'storage tank': ('storage tank', 'tank'),
    'pond': ('pond', ),
}
#: RGB of each colour word.
COLOURS = {
    'red': (195, 35, 35),
    'white': (238, 238, 232),
    'blue': (40, 75, 195),
    'green': (40, 140, 60),
    'yellow': (228, 198, 40),
    'black': (28, 28, 30),
    'grey': (150, 150, 152),
}
#: RGB of the colour words for water.
WATER = {'blue': (35, 75, 160), 'green': (35, 115, 65)}
#: Colours each kind is drawn in.
KIND_COLOURS = {
    'vehicle': ('red', 'white', 'blue', 'yellow', 'black', 'grey'),
    'building': ('red', 'white', 'grey', 'blue', 'yellow'),
    'storage tank': ('white', 'grey', 'red', 'blue'),
    'pond': ('blue', 'green'),
}
#: (colour, kind) pairs absent from train/val scenes, targeted in test.
HELD_OUT_COMBOS = (('yellow', 'building'), ('red', 'storage tank'))
