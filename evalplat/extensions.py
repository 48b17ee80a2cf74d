"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from evalplat.db import Base, render_item

db = SQLAlchemy(model_class=Base, engine_options={"pool_pre_ping": True})

# The base class of every model. At run time it is `db.Model`, which Flask-SQLAlchemy builds from `Base`'s body
# (adding its query, bind-key and table-name mixins); a type checker cannot subclass an attribute
# (python/mypy#8603), so it checks the models against `Base`, whose registry and `Mapped` typing they share.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_item)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
