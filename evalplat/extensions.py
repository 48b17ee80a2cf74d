"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from evalplat.db import Base, render_item

db = SQLAlchemy(model_class=Base, engine_options={"pool_pre_ping": True})
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_item)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
