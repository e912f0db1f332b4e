"""The social-media kit: share images in every size and language, profile-picture
frames, posters, QR codes and the Open Graph card (DESIGN.md, app `kit`)."""
