"""Words, in every language (layer 4): ``messages`` turns an error's code and data into one plain
line, ``problem_words`` a validation problem, ``i18n`` and ``zh_cn`` are the catalog (English is the
source), ``server_names`` how a public page names its servers instead of their addresses."""
