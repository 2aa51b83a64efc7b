"""Realtime: one change stream per process, a broker, bounded subscriber queues.

Mutations never push to subscribers. Every change is an inserted event
document; the change stream (changestream.py) sees it whichever process
wrote it and hands it to the broker (broker.py), which routes it to the
subscribers it concerns (subscribers.py) and to the derived feeds
(feeds.py: incident states, the status page).
"""
