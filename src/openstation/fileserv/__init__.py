"""File services: SMB (Samba's smbd, supervised), SFTP (asyncssh, in process), their
settings, and the one permission model they share with File Station."""
