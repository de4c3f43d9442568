def find_events(doc, mentions, ents, published=None, keep_all=False):
    return []
