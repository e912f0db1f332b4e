"""The kit's pages: public.py for supporters (images, posters, zip, kit pages),
frame.py for the profile-picture frame, organize.py for the design page."""
