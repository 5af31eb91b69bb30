"""A photographed page read whole: every expression found, cut or joined by what its reading says, labelled and
answered."""
