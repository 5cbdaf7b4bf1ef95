"""The sandbox Annuaire Santé: the open-data extract generator (and the people it describes)."""
