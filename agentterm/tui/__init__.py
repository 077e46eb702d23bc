"""Everything that imports Textual: the app, its screens, dialogs and widgets."""
