"""File Station: the files inside shared folders, as DSM's File Station API and app show them.

`service` locates, reads and writes (permissions, safe paths, plain or encrypted shares);
`describe` answers `additional` fields; `listing` sorts, filters and pages (pure); `tasks`
runs background tasks off the loop; `jobs` holds their work (copy/move, delete, size, MD5,
search); `archives` zips and unzips; `thumbs` makes thumbnails; `sharing` and `favorites`
keep links and favourites in the store.
"""
