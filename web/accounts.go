package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Users page (administrators) and the password page (everyone) need a
// Config.Users that is a UserAdmin; without one they answer 404.

func (s *Server) userAdmin() (UserAdmin, error) {
	ua, ok := s.cfg.Users.(UserAdmin)
	if !ok {
		return nil, errNotFound
	}
	return ua, nil
}

// roleChoices are the roles the forms offer, in order.
var roleChoices = []struct {
	Role  Role
	Label string
}{
	{RolePractice, "Practice staff (inbox of one practice)"},
	{RoleSender, "Sender staff (transmissions of one sending organisation)"},
	{RoleAdmin, "Administrator (users and MESH admin)"},
}

// userForm is the add and change forms' fields.
type userForm struct {
	Username, Name, Role, ODS string
}

type usersData struct {
	Users []User
	Form  userForm
	Roles any
	// Error and ErrorFor (the field's id) describe a refused form.
	Error, ErrorFor string
	// Password, when set, is the new account's password, shown once.
	Password string
	Created  string
}

type userData struct {
	User            User
	Self            bool
	Form            userForm
	Roles           any
	Error, ErrorFor string
	// Password, when set, is a reset password, shown once.
	Password string
	// Saved says what was changed ("Details saved").
	Saved string
}

// formError is a refused form: the message and the field it is about.
type formError struct{ field, msg string }

func (e *formError) Error() string { return e.msg }

func (f userForm) check(withUsername bool) (User, *formError) {
	u := User{Username: f.Username, Name: f.Name, Role: Role(f.Role), ODS: strings.ToUpper(f.ODS)}
	if withUsername {
		if err := CheckUsername(u.Username); err != nil {
			return u, &formError{"username", err.Error()}
		}
	}
	switch {
	case u.Name == "":
		return u, &formError{"name", "Enter the person's full name"}
	case len(u.Name) > 200:
		return u, &formError{"name", "Full name must be 200 characters or fewer"}
	case u.Role != RolePractice && u.Role != RoleSender && u.Role != RoleAdmin:
		return u, &formError{"role-" + string(RolePractice), "Select a role"}
	case u.Role == RoleAdmin:
		u.ODS = ""
	case u.ODS == "":
		return u, &formError{"ods", "Enter the ODS code of the practice or sending organisation"}
	case len(u.ODS) > 10 || strings.IndexFunc(u.ODS, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < '0' || r > '9') }) >= 0:
		return u, &formError{"ods", "ODS code must be up to 10 letters and digits, like A81001"}
	}
	return u, nil
}

func readUserForm(r *http.Request) userForm {
	return userForm{
		Username: strings.TrimSpace(r.PostFormValue("username")),
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Role:     r.PostFormValue("role"),
		ODS:      strings.TrimSpace(r.PostFormValue("ods")),
	}
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, ua UserAdmin, d usersData) error {
	list, err := ua.ListUsers(r.Context())
	if err != nil {
		return fmt.Errorf("listing users: %w", err)
	}
	d.Users, d.Roles = list, roleChoices
	p := s.newPage(r, "Users")
	p.Data = d
	return s.render(w, r, status, "users", p)
}

func (s *Server) getUsers(w http.ResponseWriter, r *http.Request) error {
	ua, err := s.userAdmin()
	if err != nil {
		return err
	}
	return s.renderUsers(w, r, http.StatusOK, ua, usersData{Form: userForm{Role: string(RolePractice)}})
}

// postUsers creates an account with a random password, shown once.
func (s *Server) postUsers(w http.ResponseWriter, r *http.Request) error {
	ua, err := s.userAdmin()
	if err != nil {
		return err
	}
	f := readUserForm(r)
	u, ferr := f.check(true)
	if ferr == nil {
		password := NewPassword()
		if u.PasswordHash, err = HashPassword(password); err != nil {
			return err
		}
		err = ua.CreateUser(r.Context(), u)
		switch {
		case errors.Is(err, ErrConflict):
			ferr = &formError{"username", "There is already a user called " + u.Username + ". Choose another username"}
		case err != nil:
			return fmt.Errorf("creating user: %w", err)
		default:
			s.log.InfoContext(r.Context(), "user created", "user", u.Username, "role", u.Role, "by", userFrom(r.Context()).Username)
			return s.renderUsers(w, r, http.StatusOK, ua, usersData{Form: userForm{Role: string(RolePractice)}, Created: u.Username, Password: password})
		}
	}
	return s.renderUsers(w, r, http.StatusUnprocessableEntity, ua, usersData{Form: f, Error: ferr.msg, ErrorFor: ferr.field})
}

// findUser loads the account the path names.
func (s *Server) findUser(r *http.Request) (UserAdmin, User, error) {
	ua, err := s.userAdmin()
	if err != nil {
		return nil, User{}, err
	}
	u, err := ua.FindUser(r.Context(), r.PathValue("username"))
	return ua, u, err
}

func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, status int, u User, d userData) error {
	d.User, d.Roles = u, roleChoices
	d.Self = u.Username == userFrom(r.Context()).Username
	if d.Form == (userForm{}) {
		d.Form = userForm{Username: u.Username, Name: u.Name, Role: string(u.Role), ODS: u.ODS}
	}
	p := s.newPage(r, u.Name+" – Users")
	p.Data = d
	return s.render(w, r, status, "user", p)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	_, u, err := s.findUser(r)
	if err != nil {
		return err
	}
	return s.renderUser(w, r, http.StatusOK, u, userData{})
}

// postUser changes an account's name, role and organisation. An
// administrator cannot take the admin role from their own account.
func (s *Server) postUser(w http.ResponseWriter, r *http.Request) error {
	ua, u, err := s.findUser(r)
	if err != nil {
		return err
	}
	f := readUserForm(r)
	f.Username = u.Username
	nu, ferr := f.check(false)
	if ferr == nil && u.Username == userFrom(r.Context()).Username && nu.Role != RoleAdmin {
		ferr = &formError{"role-" + string(RoleAdmin), "You cannot take the administrator role from your own account. Ask another administrator"}
	}
	if ferr != nil {
		return s.renderUser(w, r, http.StatusUnprocessableEntity, u, userData{Form: f, Error: ferr.msg, ErrorFor: ferr.field})
	}
	u.Name, u.Role, u.ODS = nu.Name, nu.Role, nu.ODS
	if err := ua.UpdateUser(r.Context(), u); err != nil {
		return fmt.Errorf("updating user: %w", err)
	}
	s.log.InfoContext(r.Context(), "user changed", "user", u.Username, "role", u.Role, "by", userFrom(r.Context()).Username)
	return s.renderUser(w, r, http.StatusOK, u, userData{Saved: "Details saved"})
}

// postUserReset gives an account a new random password, shown once; the
// account's sessions end (the session keeps a tag of the password hash).
func (s *Server) postUserReset(w http.ResponseWriter, r *http.Request) error {
	ua, u, err := s.findUser(r)
	if err != nil {
		return err
	}
	password := NewPassword()
	if u.PasswordHash, err = HashPassword(password); err != nil {
		return err
	}
	if err := ua.UpdateUser(r.Context(), u); err != nil {
		return fmt.Errorf("resetting password: %w", err)
	}
	s.log.InfoContext(r.Context(), "password reset", "user", u.Username, "by", userFrom(r.Context()).Username)
	if u.Username == userFrom(r.Context()).Username {
		// The admin reset their own password: this session has ended.
		s.clearSessionCookie(w, r)
	}
	return s.renderUser(w, r, http.StatusOK, u, userData{Password: password})
}

// postUserDisabled disables or enables an account. Administrators cannot
// disable their own.
func (s *Server) postUserDisabled(disable bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ua, u, err := s.findUser(r)
		if err != nil {
			return err
		}
		if disable && u.Username == userFrom(r.Context()).Username {
			return s.renderUser(w, r, http.StatusUnprocessableEntity, u, userData{Error: "You cannot disable your own account. Ask another administrator", ErrorFor: "disable"})
		}
		u.Disabled = disable
		if err := ua.UpdateUser(r.Context(), u); err != nil {
			return fmt.Errorf("updating user: %w", err)
		}
		s.log.InfoContext(r.Context(), "user "+map[bool]string{true: "disabled", false: "enabled"}[disable], "user", u.Username, "by", userFrom(r.Context()).Username)
		saved := "Account enabled: " + u.Username + " can sign in again"
		if disable {
			saved = "Account disabled: " + u.Username + " cannot sign in, and any open session has ended"
		}
		return s.renderUser(w, r, http.StatusOK, u, userData{Saved: saved})
	}
}

type passwordData struct {
	Error, ErrorFor string
	Changed         bool
	Wait            string
	Min, Max        int
}

func (s *Server) renderPassword(w http.ResponseWriter, r *http.Request, status int, d passwordData) error {
	d.Min, d.Max = MinPasswordLen, MaxPasswordBytes
	p := s.newPage(r, "Change your password")
	p.Data = d
	return s.render(w, r, status, "password", p)
}

func (s *Server) getPassword(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.userAdmin(); err != nil {
		return err
	}
	return s.renderPassword(w, r, http.StatusOK, passwordData{Changed: r.URL.Query().Get("changed") == "1"})
}

// postPassword changes the signed-in user's password. The current
// password is checked under the sign-in throttle, so a left-open session
// is no way to guess it; on success the session is replaced by a new one
// (the old one ended with the old password).
func (s *Server) postPassword(w http.ResponseWriter, r *http.Request) error {
	ua, err := s.userAdmin()
	if err != nil {
		return err
	}
	me := userFrom(r.Context())
	addr := s.clientAddr(r)
	if wait := s.limiter.Wait(me.Username, addr); wait > 0 {
		s.log.WarnContext(r.Context(), "password change throttled", "wait", wait)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return s.renderPassword(w, r, http.StatusTooManyRequests, passwordData{Error: "Too many wrong passwords. Wait " + waitText(wait) + " and try again", ErrorFor: "current-password"})
	}
	u, err := ua.FindUser(r.Context(), me.Username)
	if err != nil {
		return err
	}
	current, next, confirm := r.PostFormValue("current-password"), r.PostFormValue("new-password"), r.PostFormValue("confirm-password")
	if !checkPassword(u, current) {
		s.limiter.Fail(me.Username, addr)
		s.log.InfoContext(r.Context(), "password change refused: wrong current password")
		return s.renderPassword(w, r, http.StatusUnprocessableEntity, passwordData{Error: "Enter your current password correctly", ErrorFor: "current-password"})
	}
	s.limiter.Succeed(me.Username, addr)
	var ferr *formError
	switch {
	case CheckNewPassword(next) != nil:
		ferr = &formError{"new-password", CheckNewPassword(next).Error()}
	case next != confirm:
		ferr = &formError{"confirm-password", "The passwords do not match. Enter the new password twice"}
	case next == current:
		ferr = &formError{"new-password", "The new password must differ from the current one"}
	}
	if ferr != nil {
		return s.renderPassword(w, r, http.StatusUnprocessableEntity, passwordData{Error: ferr.msg, ErrorFor: ferr.field})
	}
	if u.PasswordHash, err = HashPassword(next); err != nil {
		return err
	}
	if err := ua.UpdateUser(r.Context(), u); err != nil {
		return fmt.Errorf("changing password: %w", err)
	}
	if err := s.cfg.Sessions.DeleteSession(r.Context(), sessionID(sessionFrom(r.Context()).token)); err != nil {
		s.log.WarnContext(r.Context(), "ending the session of a changed password", "err", err)
	}
	ns, err := s.createSession(r.Context(), u)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, ns)
	s.log.InfoContext(r.Context(), "password changed", "user", u.Username)
	http.Redirect(w, r, "/account/password?changed=1", http.StatusSeeOther)
	return nil
}

func fieldErr(err, errFor, id string) string {
	if errFor == id {
		return err
	}
	return ""
}

func (d usersData) fieldError(id string) string    { return fieldErr(d.Error, d.ErrorFor, id) }
func (d userData) fieldError(id string) string     { return fieldErr(d.Error, d.ErrorFor, id) }
func (d passwordData) fieldError(id string) string { return fieldErr(d.Error, d.ErrorFor, id) }
